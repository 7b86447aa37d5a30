import { View, Text } from '@tarojs/components'
import { useLoad } from '@tarojs/taro'
import { useState } from 'react'
import { session } from '../../session'
import './index.css'

export default function Index () {
  const [user, setUser] = useState('')

  useLoad(() => {
    console.log('Page loaded.')
    // The first call logs in (once, however many pages ask); the token rides along.
    session.request({ url: '/api/profile' })
      .then(({ statusCode, data }) => setUser(statusCode === 200 ? data.nickname : `HTTP ${statusCode}`))
      .catch((e) => setUser(e.code))
  })

  return (
    <View className='index'>
      <Text>Hello world!</Text>
      <Text>{user}</Text>
    </View>
  )
}
